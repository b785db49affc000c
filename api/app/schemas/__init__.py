"""Request and response bodies. Requests refuse unknown fields; customers and staff get different
response schemas wherever their views differ."""
