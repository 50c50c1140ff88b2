"""What the footage shows and says: on-screen text, languages, the same audio, speech.

Each analyser is optional: it is detected at run time and, when its tool or model is
missing, says so in one line and lets the others run.
"""
