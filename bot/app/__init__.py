"""The application: settings, wiring, the lifecycle runner, the command line and logging."""
