"""Calendar work: dates as people type them, reading iCal feeds, writing ``.ics`` files."""
