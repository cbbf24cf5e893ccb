"""cellui screens: main (cells), storage (volumes and backups), logs
(follow view), and the modal confirm, plan and help screens.
Callers: cells.ui.app.
"""
