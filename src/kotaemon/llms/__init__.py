"""Language models behind one interface: OpenAI-compatible servers and the offline extractive answerer."""
