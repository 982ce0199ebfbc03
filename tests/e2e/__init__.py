"""End-to-end journeys in a real browser (Chromium via Playwright) against a live server."""
