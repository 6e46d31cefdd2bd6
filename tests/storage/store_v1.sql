PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE tunebook_meta (
	"key" VARCHAR(64) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO tunebook_meta VALUES('schema_version','1');
CREATE TABLE experiments (
	id INTEGER NOT NULL, 
	name TEXT NOT NULL, 
	spec TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	source TEXT, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);
INSERT INTO experiments VALUES(1,'kept','{"goal":"compare depths","objective":{"metric":"eval/loss","mode":"min"}}','2026-12-03 15:34:12.881547',NULL);
CREATE TABLE studies (
	id INTEGER NOT NULL, 
	experiment_id INTEGER NOT NULL, 
	"key" TEXT NOT NULL, 
	scientific TEXT NOT NULL, 
	budget INTEGER NOT NULL, 
	next_number INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (experiment_id, "key"), 
	FOREIGN KEY(experiment_id) REFERENCES experiments (id) ON DELETE CASCADE
);
INSERT INTO studies VALUES(1,1,'default','{}',2,1,'2026-12-03 15:34:12.885063');
CREATE TABLE notes (
	id INTEGER NOT NULL, 
	experiment_id INTEGER NOT NULL, 
	text TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(experiment_id) REFERENCES experiments (id) ON DELETE CASCADE
);
CREATE TABLE trials (
	id INTEGER NOT NULL, 
	study_id INTEGER NOT NULL, 
	number INTEGER NOT NULL, 
	params TEXT NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	attempt INTEGER NOT NULL, 
	worker TEXT, 
	created_at DATETIME NOT NULL, 
	started_at DATETIME, 
	finished_at DATETIME, 
	heartbeat_at DATETIME, 
	objective FLOAT, 
	best_step BIGINT, 
	reason TEXT, 
	PRIMARY KEY (id), 
	UNIQUE (study_id, number), 
	FOREIGN KEY(study_id) REFERENCES studies (id) ON DELETE CASCADE
);
INSERT INTO trials VALUES(1,1,0,'{"lr":0.1}','running',0,'w','2026-12-03 15:34:12.886494','2026-12-03 15:34:12.886494',NULL,NULL,NULL,NULL,NULL);
CREATE TABLE curve_chunks (
	id INTEGER NOT NULL, 
	trial_id INTEGER NOT NULL, 
	metric TEXT NOT NULL, 
	n INTEGER NOT NULL, 
	steps BLOB NOT NULL, 
	vals BLOB NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(trial_id) REFERENCES trials (id) ON DELETE CASCADE
);
CREATE TABLE checkpoints (
	trial_id INTEGER NOT NULL, 
	step BIGINT NOT NULL, 
	path TEXT NOT NULL, 
	value FLOAT, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (trial_id, step), 
	FOREIGN KEY(trial_id) REFERENCES trials (id) ON DELETE CASCADE
);
CREATE INDEX ix_trials_study_state_number ON trials (study_id, state, number);
CREATE INDEX ix_curve_chunks_trial ON curve_chunks (trial_id, id);
COMMIT;
