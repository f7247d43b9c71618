"""In-app alerts and e-mail to owners."""
