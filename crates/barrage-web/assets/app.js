// Placeholder on the server branch: the page branch supplies app.js.
