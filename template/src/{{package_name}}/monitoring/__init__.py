"""What happens after serving: the prediction log, drift and the monitoring report."""
