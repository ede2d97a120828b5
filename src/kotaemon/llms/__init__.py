"""Language models: OpenAI-compatible servers, and the offline extractive answerer."""
