"""The DNS records that follow the primary site."""
