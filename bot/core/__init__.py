"""The core: the chat vocabulary, the dispatcher, the registry, the context and button codecs."""
