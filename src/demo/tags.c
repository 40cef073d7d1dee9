/*
 * See tags.h. Definitions only: the server computes the values when it
 * loads (or, when it is running, when it sees the new definitions).
 */
#include "demo/tags.h"

#include "engine/tagdb.h"

static const struct {
	const char *name, *expr, *category, *description;
	enum mr_xtype type;
} mr_demo_tag_defs[] = {
	{ "wechat_engaged", "count(channel = \"wechat\" and outcome >= \"responded\", 90d) >= 3", "engagement",
	  "微信互动活跃：近 90 天至少 3 次微信回复", MR_XT_BOOL },
	{ "engagement_score", "sum(weight, 180d)", "engagement",
	  "互动得分：近 180 天各渠道互动的权重之和（结果越好权重越高）", MR_XT_NUM },
	{ "academic_need", "top(content.topic, channel = \"content\", 180d)", "needs",
	  "学术需求：近 180 天浏览最多的内容主题", MR_XT_STR },
	{ "answer_rate_90d", "rate(channel = \"phone\" and outcome >= \"answered\", channel = \"phone\", 90d)",
	  "engagement", "近 90 天电话接通率", MR_XT_NUM },
	{ "kol", NULL, "profile", "关键意见领袖（由代表或 MSL 标注）", MR_XT_BOOL },
};

struct mr_demo_tags_job {
	int64_t now, created;
};

static int mr_demo_tags_write(struct mr_conn *c, void *arg, struct mr_err *err)
{
	struct mr_demo_tags_job *j = arg;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < sizeof(mr_demo_tag_defs) / sizeof(mr_demo_tag_defs[0]); i++) {
		struct mr_val name = mr_v_text(mr_demo_tag_defs[i].name);
		struct mr_tagdef def = {
			.name = mr_demo_tag_defs[i].name,
			.kind = mr_demo_tag_defs[i].expr ? MR_TAG_COMPUTED : MR_TAG_MANUAL,
			.type = mr_demo_tag_defs[i].type,
			.expr = mr_demo_tag_defs[i].expr,
			.description = mr_demo_tag_defs[i].description,
			.category = mr_demo_tag_defs[i].category,
			.created_by = "demo",
			.updated_by = "demo",
			.created_at = j->now,
			.updated_at = j->now,
		};
		int64_t live = 0;

		rc = mr_conn_query_int(c, "SELECT COUNT(*) FROM tags WHERE name = ? AND deleted_at IS NULL", &name, 1,
				       &live, err);
		if (rc == 0 && live == 0) {
			rc = mr_tagdb_put(c, &def, err);
			j->created += rc == 0;
		}
	}
	return rc;
}

int mr_demo_tags(struct mr_store *s, int64_t now_us, int64_t *created, struct mr_err *err)
{
	struct mr_demo_tags_job j = { now_us, 0 };
	int rc = mr_store_write(s, mr_demo_tags_write, &j, err);

	if (created)
		*created = j.created;
	return rc;
}
