"""Work done on preserved evidence after it is catalogued: in process, or by Celery workers.

The embedded default runs every step inside `ingest`, as it always has. With a queue
configured (`TESTAMENT_QUEUE_URL`, a Redis or RabbitMQ broker), `ingest` commits the
asset, its capture and their custody events, records one job row per task in the same
transaction, and only then sends the tasks to `testament worker`s. The jobs table is the
record of what is queued, running, failed (with its error) or done.
"""
