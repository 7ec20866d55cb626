"""The clients of Tablium's websocket protocol that ship with the server: the JavaScript SDK
(clients/js) and the browser client (clients/web), and the routes that serve them."""
