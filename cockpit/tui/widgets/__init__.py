"""Small reusable widgets: place bar, GPU card, meters, host panel and tables."""
