/*
 * The HCP profile projection: what the expression language can say about
 * a doctor, held in columns by internal record id — specialty, title,
 * department, gender and status as dictionary codes, the hospital and its
 * level, grade, type, province, city, city tier and region, the channels
 * the doctor has opted in to, and whether the record is live, deleted or
 * merged into another. A segment over 400,000 doctors reads a few arrays,
 * never the store.
 *
 * It follows the HCP directory (hcpdir.h): the directory's full load loads
 * it, and each sync's changed HCPs and hospitals are read again, on the
 * sync's connection. A read that fails marks the profile stale, and the
 * next sync loads it whole.
 *
 * Reading: between mr_profile_read_begin and _end the columns do not
 * change (a read lock); everything else is thread-safe on its own.
 */
#ifndef MR_ENGINE_PROFILE_H
#define MR_ENGINE_PROFILE_H

#include <stdint.h>

#include "engine/hcpdir.h"
#include "store/store.h"

struct mr_profile;
struct mr_dict;

/* The attributes, as the expression language names them. */
enum mr_pattr {
	MR_PA_SPECIALTY,
	MR_PA_TITLE,
	MR_PA_DEPARTMENT,
	MR_PA_GENDER,
	MR_PA_STATUS,
	MR_PA_HCO,            /* the hospital's external id */
	MR_PA_HCO_GRADE,
	MR_PA_HCO_TYPE,
	MR_PA_HCO_PROVINCE,
	MR_PA_HCO_CITY,
	MR_PA_REGION,
	MR_PA_TEXT_COUNT,     /* the text attributes come before this */
	MR_PA_HCO_LEVEL = MR_PA_TEXT_COUNT,
	MR_PA_HCO_CITY_TIER,
	MR_PA_COUNT,
};

/* The state of a record. */
enum { MR_PS_NONE = 0, MR_PS_LIVE, MR_PS_DELETED, MR_PS_MERGED };

/* Consent channels: a bit each in mr_profile_consents. */
enum { MR_PC_MAX = 16 };
/* Consent purposes (ARCHITECTURE.md's consent.purpose), for mr_profile_consents_for. */
enum { MR_PP_PROMOTIONAL, MR_PP_MEDICAL_INFO, MR_PP_MEETING_INVITE, MR_PP_SURVEY, MR_PP_COUNT };

struct mr_profile_stats {
	int ready;
	int64_t hcps, hcos;
	int64_t loads, reloads;   /* full loads; records read again */
	int64_t load_us;
	int64_t bytes;
};

struct mr_profile *mr_profile_new(void);
void mr_profile_free(struct mr_profile *p);

/* Follows d: call before d's load starts. */
void mr_profile_follow(struct mr_profile *p, struct mr_hcpdir *d);
/* Loads everything now on c (tests, the CLI); the directory's listener does this in a server. */
int mr_profile_load(struct mr_profile *p, struct mr_conn *c, struct mr_err *err);
int mr_profile_ready(struct mr_profile *p);

/* The attribute named (lower case: "specialty", "hco.city_tier", "region"), or -1. */
int mr_profile_attr_of(const char *name);
/* 1 for a numeric attribute (hco.level, hco.city_tier). */
int mr_profile_attr_numeric(int attr);
/* The consent channel named ("wechat", ...) as a bit index, or -1. */
int mr_profile_consent_of(const char *channel);
/* The dictionary of the text attributes' values (shared by all of them). */
struct mr_dict *mr_profile_dict(struct mr_profile *p);

void mr_profile_read_begin(struct mr_profile *p);
void mr_profile_read_end(struct mr_profile *p);
/* Within a read span: ids run below this. */
uint32_t mr_profile_nhcps(const struct mr_profile *p);
/* Within a read span: record id's state (MR_PS_...), what it was merged into (0: nothing). */
int mr_profile_state(const struct mr_profile *p, uint32_t id);
uint32_t mr_profile_merged_into(const struct mr_profile *p, uint32_t id);
/*
 * Within a read span: attribute attr of record id — a dictionary code for
 * text (0: none), the number for numeric ones (0: none: levels and tiers
 * start at 1).
 */
uint32_t mr_profile_get(const struct mr_profile *p, uint32_t id, int attr);
/* Within a read span: the column of attr (indexed by record id, mr_profile_nhcps long). */
const uint32_t *mr_profile_column(const struct mr_profile *p, int attr);
/* A number that changes whenever anything in p does (stable within a read span). */
uint64_t mr_profile_version(const struct mr_profile *p);
/* Within a read span: the bits of the consent channels record id has opted in to (for any purpose). */
uint32_t mr_profile_consents(const struct mr_profile *p, uint32_t id);
/* Within a read span: the bits of the consent channels record id has opted in to for purpose (MR_PP_...). */
uint32_t mr_profile_consents_for(const struct mr_profile *p, uint32_t id, int purpose);
/* The purpose named ("promotional", "medical_info", "meeting_invite", "survey") as MR_PP_..., or -1. */
int mr_profile_purpose_of(const char *name);
/* The name of purpose (MR_PP_...), or NULL. */
const char *mr_profile_purpose_name(int purpose);

void mr_profile_stats(struct mr_profile *p, struct mr_profile_stats *out);

#endif
