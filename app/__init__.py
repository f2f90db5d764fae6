"""The application shell: configuration, the one bootstrap that wires everything, and the CLI."""
