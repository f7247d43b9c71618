"""Analytics: engagement metrics, the engagement prediction model and its evaluation, learned best
posting times."""
