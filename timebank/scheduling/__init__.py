"""Scheduled jobs: the machinery that runs the job table (timebank/jobs.py) exactly once.

- models.py      leases, recorded runs, the periods a daily or monthly job has done, alerts
- table.py       what a job is (``Job``) and how its TIMEBANK_JOB_* schedule reads
- operations/    leases (leadership), runs (record, catch up, run now), alerts
- process.py     ``timebank scheduler``: APScheduler's BlockingScheduler in its own process,
                 running jobs only while it holds the database lease
- views.py       the admins' page of jobs and runs, and resolving alerts

Like core, this package knows no domain module: the job table hands it the jobs (only
views.py and demo.py, edges, read the table and the people).
"""
