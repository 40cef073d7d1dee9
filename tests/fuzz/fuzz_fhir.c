/*
 * Fuzzes the FHIR R4 reader (src/md/fhir.c): any JSON a client posts as a
 * resource or a Bundle. Invariants:
 *   - mr_fhir_read and mr_fhir_check either accept a resource or refuse it
 *     with MR_EINVAL naming a FHIR path (err->field) in valid UTF-8;
 *   - an accepted record carries only valid UTF-8 values;
 *   - mr_fhir_import_new accepts a Bundle or refuses it with MR_EINVAL or
 *     MR_ETOOBIG, and never counts more entries than the Bundle holds.
 */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "base/arena.h"
#include "base/json.h"
#include "base/str.h"
#include "fuzz.h"
#include "md/fhir.h"

static void fuzz_fhir_resource(json_t *res)
{
	struct mr_fhir_in in;
	struct mr_arena a;
	struct mr_err err;
	int rc;

	memset(&in, 0, sizeof(in));
	mr_arena_init(&a);
	mr_err_clear(&err);
	rc = mr_fhir_read(res, NULL, &in, &a, &err);
	if (rc == 0)
		rc = mr_fhir_check(&in, 1700000000000000LL, &a, &err);
	if (rc < 0) {
		FUZZ_CHECK(rc == MR_EINVAL || rc == MR_ETOOBIG, "a refusal is bad input");
		FUZZ_CHECK(err.msg[0] != '\0', "a refusal says why");
		FUZZ_CHECK(mr_utf8_check(err.field, strlen(err.field)) == 0, "the path is UTF-8");
	} else if (in.type != MR_FHIR_CONSENT) {
		for (int i = 0; i < MR_MD_MAXF; i++) {
			const char *v = in.rec.val[i];

			FUZZ_CHECK(!v || mr_utf8_check(v, strlen(v)) == 0, "values are UTF-8");
		}
	}
	mr_arena_release(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *v = NULL;
	struct mr_err err;
	struct mr_fhir_import *im = NULL;

	mr_err_clear(&err);
	if (mr_json_parse((const char *)data, size, 32, &v, &err) < 0)
		return 0;
	if (json_is_object(v)) {
		const char *type = json_string_value(json_object_get(v, "resourceType"));

		if (type && strcmp(type, "Bundle") == 0) {
			int rc = mr_fhir_import_new(v, &im, &err);

			FUZZ_CHECK(rc == 0 || rc == MR_EINVAL || rc == MR_ETOOBIG, "a Bundle is taken or refused");
			if (rc == 0)
				FUZZ_CHECK(mr_fhir_import_count(im) <=
					   (int)json_array_size(json_object_get(v, "entry")), "no entry is invented");
			mr_fhir_import_free(im);
		} else {
			fuzz_fhir_resource(v);
		}
	}
	json_decref(v);
	return 0;
}
