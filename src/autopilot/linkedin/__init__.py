"""LinkedIn: the OAuth connection, its tokens' lifecycle, the API client and publishing a post."""
