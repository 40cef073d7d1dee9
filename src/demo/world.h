/*
 * The demo world: a believable, seeded, reproducible commercial world of a
 * pharma company in China, emitted as rows entity by entity so the same
 * importer that loads a customer's CSV loads it (and `medreach demo --csv`
 * can write it out as files).
 *
 * Entities come in dependency order, each announced with its columns, which
 * are the field names of ../shared/ARCHITECTURE.md's master-data table:
 *   territories  id, name, parent
 *   hcos         id, name, level, grade, type, province, city, city_tier, region, address, departments
 *   reps         id, name, type, manager, territory, user
 *   hcps         id, name, pinyin, gender, title, specialty, department, hco, license_no, phone, email, status
 *   identities   hcp, kind, value, app, verified, source
 *   alignments   hcp, rep, role, product, valid_from, valid_to
 *   consents     hcp, channel, purpose, status, captured_at, source, evidence, version
 * Values are strings ("" for none); times RFC 3339 with +08:00; departments
 * are separated by ';'.
 *
 * What a world holds (world.c's top comment has the rules, data.c the tables):
 *   - the territory tree 全国 → 7 regions → 31 provinces → ~90 cities (ids
 *     T-CN, T-EAST, T-EAST-JS, T-EAST-JS-NJ; a municipality is one node,
 *     T-EAST-SH); every city-level territory has its tier (1-5) on its hcos;
 *   - hospitals of every level and grade named as Chinese hospitals are,
 *     about one per 12 doctors (sublinear past 36,000 doctors);
 *   - reps R00001…: managers before their teams, `manager` naming each
 *     one's manager; field reps (~1 per 200 doctors), inside reps (~1 per
 *     800), MSLs (~1 per 2,500, at least one per region with KOLs), KAMs
 *     (~1 per 5,000); `user` is rep.r00001, or mgr.r00012 for a manager;
 *   - doctors D0000001… with unique licence numbers (15 digits), unique
 *     mobile phones (+86 1[3-9]…, E.164) and unique e-mail addresses or none;
 *   - identities: wecom_external_userid, wechat_unionid, wechat_openid (app
 *     wx_med_svc), meeting_user_id (app tencent_meeting), each value unique;
 *   - alignments: per product of the doctor's specialty, at most one
 *     field_owner and one inside_owner (an ended inside ownership has a
 *     valid_to), and an msl row for KOLs; the rep's territory always
 *     contains the doctor's city; valid_from is the 1st of a past month;
 *   - consents: a few channel × purpose rows per doctor, some opt-ins later
 *     withdrawn (a second, later opt_out row), all captured before now_us;
 *   - duplicates: round(dup_share × hcps) second records MTG-000001… and
 *     WX-000001… (after the primaries, in the hcps, identities and
 *     consents), with no alignments. They never repeat a primary's phone,
 *     licence or e-mail, which md keeps unique, so they are found by name,
 *     hospital and near-miss numbers — the work identity resolution has.
 */
#ifndef MR_DEMO_WORLD_H
#define MR_DEMO_WORLD_H

#include <stdint.h>

#include "base/err.h"

struct mr_demo_sink {
	void *arg;
	/* Starts an entity's rows: its name and columns (valid for the whole entity). */
	int (*begin)(void *arg, const char *entity, int ncols, const char *const *cols, struct mr_err *err);
	/* One row of the current entity: ncols values, valid for this call only. */
	int (*row)(void *arg, const char *const *vals, struct mr_err *err);
	/* Ends the current entity. */
	int (*end)(void *arg, const char *entity, struct mr_err *err);
};

struct mr_demo_opts {
	int64_t hcps;       /* doctors in the world, 1 to 5,000,000 (35,000 for `make run`) */
	uint64_t seed;      /* the same seed, hcps, dup_share and now_us give the same rows, byte for byte */
	double dup_share;   /* 0 to 1: share of doctors who also appear as a second record from another source */
	int64_t now_us;     /* "today" of the world: alignments and consents are dated before it */
};

/* Rows emitted per entity; hcps counts every hcps row, the duplicates included. */
struct mr_demo_stats {
	int64_t territories, hcos, reps, hcps, identities, alignments, consents;
	int64_t duplicates; /* second records planted for identity resolution (among hcps) */
};

/*
 * Emits the whole world into sink. MR_EINVAL for options out of range.
 * Stops at the first negative code a sink callback returns and returns it
 * (with err as the callback filled it); stats counts the rows sent until
 * then. stats may be NULL. Takes well under a second for 35,000 doctors.
 */
int mr_demo_world(const struct mr_demo_opts *opts, const struct mr_demo_sink *sink,
		  struct mr_demo_stats *stats, struct mr_err *err);

#endif
