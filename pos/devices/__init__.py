"""Device assembly: one factory from the configuration for every face (state lock, host link, reader, camera, printer)."""
