"""Large jobs: prompt files to folders, the manifest, the engines (asyncio, Ray) and ``run_batch``."""
