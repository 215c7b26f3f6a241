"""One screen module per place (hardware, doctor, profiles, runs, logs) plus dialogs."""
