/* Cloud Native Buildpacks: placeholder until the CNB runner lands. */
#include "buildpack/bp.h"
#include "util/util.h"

int bp_cnb_detect(bp_ctx *c, int *pass, ds_error *err)
{
	*pass = 0;
	return ds_error_set(err, DS_EUNSUPPORTED, "'%s': Cloud Native Buildpacks are not "
						  "supported yet", c->bp->file);
}

int bp_cnb_build(bp_cnb_result **out, const json_t *plan, const ds_source *src, ds_store *store,
		 const ds_layer_opts *lo, const char *cache_dir, ds_error *err)
{
	return ds_error_set(err, DS_EUNSUPPORTED, "Cloud Native Buildpacks are not supported yet");
}

void bp_cnb_result_free(bp_cnb_result *r)
{
	(void)r;
}
