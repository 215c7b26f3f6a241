"""One screen module per place (hardware, doctor, profiles, launch, logs) plus dialogs."""
