"""Cross-cutting mechanics shared by every Limelight service. No domain rules live here."""
