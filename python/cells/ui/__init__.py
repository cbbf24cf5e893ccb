"""cellui: the Textual TUI over `cellmgr daemon`.

model (pure data and logic), messages (what the IO worker posts), link
(the IO worker: the daemon connection), widgets/ and screens/ (the UI),
app (the App and the `cellui` entry point).  It talks to the daemon over
its IPC socket only.
"""
