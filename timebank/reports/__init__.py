"""Reports: roll-ups per unit and period, the honour roll (光荣榜), the dual-report quarter
(双报到), personal service records, exports, and service certificates (志愿服务证明) anyone can
verify.

It reads activities, projects, merchants and the ledger; none of them imports it (an
``ast`` test keeps the direction). Every figure is computed from the ledger and the
evidence (attendance, hour logs, needs, redemptions), never from a counter someone can
edit.
"""
