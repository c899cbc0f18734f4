"""The ``%flux`` / ``%%flux`` magics and the HTML grid they show."""
