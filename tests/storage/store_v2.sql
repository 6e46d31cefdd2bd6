PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE checkpoints (
	trial_id INTEGER NOT NULL, 
	step BIGINT NOT NULL, 
	path TEXT NOT NULL, 
	value FLOAT, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (trial_id, step), 
	FOREIGN KEY(trial_id) REFERENCES trials (id) ON DELETE CASCADE
);
CREATE TABLE code_versions (
	id INTEGER NOT NULL, 
	digest VARCHAR(64) NOT NULL, 
	info TEXT NOT NULL, 
	diff TEXT, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (digest)
);
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
CREATE TABLE experiments (
	id INTEGER NOT NULL, 
	name TEXT NOT NULL, 
	spec TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	source TEXT, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);
INSERT INTO "experiments" VALUES(1,'kept','{"goal":"compare depths","objective":{"metric":"eval/loss","mode":"min"}}','2026-12-03 23:45:40.721310',NULL);
CREATE TABLE launches (
	id INTEGER NOT NULL, 
	line TEXT NOT NULL, 
	seq INTEGER NOT NULL, 
	entry TEXT NOT NULL, 
	prev_hash VARCHAR(64), 
	hash VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (line, seq)
);
CREATE TABLE notes (
	id INTEGER NOT NULL, 
	experiment_id INTEGER NOT NULL, 
	text TEXT NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(experiment_id) REFERENCES experiments (id) ON DELETE CASCADE
);
INSERT INTO "notes" VALUES(1,1,'plain note on the experiment','2026-12-03 23:45:40.751232');
INSERT INTO "notes" VALUES(2,1,'trial depth=1/1: lr 0.01 looks best','2026-12-03 23:45:40.753875');
INSERT INTO "notes" VALUES(3,1,'trial depth=9/0: a study that does not exist','2026-12-03 23:45:40.759237');
INSERT INTO "notes" VALUES(4,1,'trial depth=1/7: a trial that does not exist','2026-12-03 23:45:40.760896');
CREATE TABLE studies (
	id INTEGER NOT NULL, 
	experiment_id INTEGER NOT NULL, 
	"key" TEXT NOT NULL, 
	scientific TEXT NOT NULL, 
	budget INTEGER NOT NULL, 
	next_number INTEGER NOT NULL, 
	created_at DATETIME NOT NULL, 
	source_trial_id INTEGER, 
	PRIMARY KEY (id), 
	UNIQUE (experiment_id, "key"), 
	FOREIGN KEY(experiment_id) REFERENCES experiments (id) ON DELETE CASCADE, 
	FOREIGN KEY(source_trial_id) REFERENCES trials (id) ON DELETE SET NULL
);
INSERT INTO "studies" VALUES(1,1,'depth=1','{"depth":1}',2,2,'2026-12-03 23:45:40.729053',NULL);
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
	code_version_id INTEGER, 
	suggestion TEXT, 
	PRIMARY KEY (id), 
	UNIQUE (study_id, number), 
	FOREIGN KEY(study_id) REFERENCES studies (id) ON DELETE CASCADE, 
	FOREIGN KEY(code_version_id) REFERENCES code_versions (id) ON DELETE SET NULL
);
INSERT INTO "trials" VALUES(1,1,0,'{"lr":0.1}','running',0,'w','2026-12-03 23:45:40.730449','2026-12-03 23:45:40.730449',NULL,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO "trials" VALUES(2,1,1,'{"lr":0.01}','running',0,'w','2026-12-03 23:45:40.746140','2026-12-03 23:45:40.746140',NULL,NULL,NULL,NULL,NULL,NULL,NULL);
CREATE TABLE tunebook_meta (
	"key" VARCHAR(64) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "tunebook_meta" VALUES('schema_version','2');
CREATE INDEX ix_trials_study_state_number ON trials (study_id, state, number);
CREATE INDEX ix_curve_chunks_trial ON curve_chunks (trial_id, id);
COMMIT;
