/*
 * The static tables behind the demo world (world.c): China's commercial
 * regions, its 31 mainland provinces, about ninety real cities with their
 * tier, districts, counties and medical universities, the hospital name
 * templates, specialties and their departments, the products, and the
 * surnames and given-name characters doctors' names are drawn from.
 *
 * City tiers, 1 to 5, follow the 2023 ranking of 第一财经·新一线城市研究所:
 * 1 = 一线 (北京 上海 广州 深圳), 2 = 新一线 (成都 重庆 杭州 武汉 苏州 西安
 * 南京 长沙 天津 郑州 东莞 青岛 昆明 宁波 合肥), 3 = 二线, 4 = 三线, and
 * 5 = 四线 and 五线. For the smaller cities the placement is the commonly
 * cited one and only approximate; nothing depends on it being exact.
 *
 * Tables are data only: world.c resolves the codes (a city's province, a
 * province's region) to indices once per run.
 */
#ifndef MR_DEMO_DATA_H
#define MR_DEMO_DATA_H

/* Specialties, in the order of mr_demo_specialties; department masks are bits of these. */
enum mr_demo_spec {
	MR_DEMO_ENDO,
	MR_DEMO_CARDIO,
	MR_DEMO_OPHTH,
	MR_DEMO_NEURO,
	MR_DEMO_ONC,
	MR_DEMO_RESP,
	MR_DEMO_GASTRO,
	MR_DEMO_NEPH,
	MR_DEMO_RHEUM,
	MR_DEMO_GP,
	MR_DEMO_PED,
	MR_DEMO_OBS,
	MR_DEMO_NSPEC
};

#define MR_DEMO_BIT(s) (1u << (s))

/* Hospital types, named as the hco "type" field spells them. */
enum mr_demo_hco_type {
	MR_DEMO_GENERAL,
	MR_DEMO_SPECIALTY,
	MR_DEMO_TCM,
	MR_DEMO_MCH,
	MR_DEMO_COMMUNITY,
};

/* Where a hospital template is instantiated in a city. */
enum mr_demo_scope {
	MR_DEMO_AT_UNIV0,    /* the city's first medical university: "<univ><suffix>" */
	MR_DEMO_AT_UNIV1,    /* its second one */
	MR_DEMO_AT_PROV,     /* provincial capitals (not municipalities): "<province><suffix>" */
	MR_DEMO_AT_CITY,     /* every city: "<city>市<suffix>" */
	MR_DEMO_AT_DISTRICT, /* each urban district: "<city>市<district><suffix>" */
	MR_DEMO_AT_COUNTY,   /* each county or county-level city: "<county><suffix>" */
	MR_DEMO_AT_STREET,   /* each district and street: "<city>市<district><street>街道<suffix>" */
};

struct mr_demo_region {
	const char *id;   /* "EAST": territory ids T-EAST, T-EAST-JS ... */
	const char *name; /* "华东": the hco "region" field */
};

struct mr_demo_province {
	const char *code;  /* ISO 3166-2:CN subdivision code without "CN-": "JS" */
	const char *name;  /* full name, the hco "province" field: "江苏省" */
	const char *region; /* a mr_demo_region id */
	int gb;            /* GB/T 2260 code, the licence number's province digits */
	int municipality;  /* 1 for 北京 天津 上海 重庆: province and city in one */
};

struct mr_demo_city {
	const char *code;      /* ASCII, unique within its province ("NJ"); a municipality's is its province's */
	const char *name;      /* "南京"; "市" is appended where a full name is wanted */
	const char *pinyin;    /* "nanjing", unique: e-mail domains */
	const char *province;  /* a mr_demo_province code */
	int tier;              /* 1..5, see the top of this file */
	int capital;           /* 1 for a provincial capital */
	int pop;               /* people, in ten thousands (2020 census, rounded) */
	const char *univ;      /* medical universities with affiliated hospitals, space-separated */
	const char *districts; /* urban districts (区, or 街道/镇 where a city has none), space-separated */
	const char *counties;  /* counties and county-level cities (县/市), space-separated */
};

struct mr_demo_hco_tpl {
	enum mr_demo_scope scope;
	const char *suffix;      /* appended to the place name */
	const char *abbr;        /* e-mail domain part ("dyrmyy"), or "" for no domain */
	enum mr_demo_hco_type type;
	int max_tier;            /* only in cities of this tier or a better (lower) one */
	unsigned char lg[5];     /* level*10 + grade (0 甲, 1 乙, 2 丙) by city tier 1..5 */
	unsigned depts;          /* departments, a mask of MR_DEMO_BIT(spec) */
	int staff;               /* relative number of doctors the company targets there */
};

struct mr_demo_specialty {
	const char *id;     /* "endocrinology": the hcp "specialty" field */
	const char *dept;   /* "内分泌科": the department name */
	int weight;         /* relative share of doctors, where the hospital has the department */
	int female_pct;
};

struct mr_demo_product {
	const char *id;     /* "GLU-XR" */
	unsigned specs;     /* specialties it is promoted to */
};

struct mr_demo_surname {
	const char *han;
	const char *pinyin;
	int weight;         /* per hundred thousand people, roughly */
};

struct mr_demo_given {
	const char *han;
	const char *pinyin;
	char gender;        /* 'M', 'F', or 'N' for either */
};

struct mr_demo_combo {
	const char *channel; /* a consent channel */
	const char *purpose;
	int weight;
	int opt_out_pct;     /* share captured as opt_out */
};

extern const struct mr_demo_region mr_demo_regions[];
extern const int mr_demo_nregions;
extern const struct mr_demo_province mr_demo_provinces[];
extern const int mr_demo_nprovinces;
extern const struct mr_demo_city mr_demo_cities[];
extern const int mr_demo_ncities;
extern const struct mr_demo_hco_tpl mr_demo_hco_tpls[];
extern const int mr_demo_nhco_tpls;
extern const struct mr_demo_specialty mr_demo_specialties[MR_DEMO_NSPEC];
extern const struct mr_demo_product mr_demo_products[];
extern const int mr_demo_nproducts;
extern const struct mr_demo_surname mr_demo_surnames[];
extern const int mr_demo_nsurnames;
extern const struct mr_demo_given mr_demo_givens[];
extern const int mr_demo_ngivens;
extern const char *const mr_demo_streets[];
extern const int mr_demo_nstreets;
extern const char *const mr_demo_phone_prefixes[];
extern const int mr_demo_nphone_prefixes;
extern const struct mr_demo_combo mr_demo_combos[];
extern const int mr_demo_ncombos;
/* Title pyramids by hospital level (index level-1): resident, attending, assoc_chief, chief. */
extern const int mr_demo_title_weights[3][4];
extern const char *const mr_demo_titles[4];
extern const char *const mr_demo_hco_types[];

#endif
