"""The distributed configuration store (etcd) that agents coordinate through."""
