"""The local runtime behind the `limelight` command: Kafka, PostgreSQL, topics, migrations and
the four services on one machine."""

import warnings

# pgserver asks platformdirs for a runtime dir it never uses; on servers without
# XDG_RUNTIME_DIR that warns on every command.
warnings.filterwarnings("ignore", module="platformdirs")
