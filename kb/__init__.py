"""safety-kb: a catalogue of AI-safety literature and the methods it proposes."""

__version__ = "0.1.0"
