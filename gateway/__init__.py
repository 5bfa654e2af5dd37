"""The gateway: one service, two front doors (REST and GraphQL), one core."""
