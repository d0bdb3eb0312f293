"""Where a deployment plan is applied: local processes or a Kubernetes cluster."""
