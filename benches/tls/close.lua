-- One request per connection: the server closes after the response and wrk reconnects, so every
-- request pays a full TLS handshake (wrk does not resume sessions).
wrk.headers["Connection"] = "close"
