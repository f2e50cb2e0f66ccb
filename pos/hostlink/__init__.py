"""The link to the acquirer host: ISO 8583 frames over TCP, or the embedded host in this process."""
