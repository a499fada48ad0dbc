"""Lambda entry points: parse the event, call one piece of logic, shape the reply."""
