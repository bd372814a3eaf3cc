"""One entry function per job. The CLI, the local runtime and the Airflow DAGs call these and nothing deeper.

Each takes the settings and small arguments (time windows, model names, versions) and returns a small result
(`results.as_dict` turns it into plain JSON for logs and XCom); none hands a DataFrame across.

| job | function |
| --- | --- |
| feature snapshot | `features.snapshot_features` |
| train and register | `training.train_and_register` |
| promote, roll back | `promotion.promote_challenger`, `promotion.rollback_champion` |
| score the fleet | `serving.score_fleet_once` |
"""
