/* Fuzz target: manifest and index parsing as a registry sends them, and
 * platform selection from an index. */
#include <stddef.h>
#include <stdint.h>

#include "registry/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = { NULL, "application/vnd.oci.image.index.v1+json",
					      "application/vnd.docker.distribution.manifest.v2+json" };
	static const char *const platforms[] = { "linux/amd64", "linux/arm64", "linux/arm",
						 "linux/arm/v6" };

	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		reg_manifest m;
		ds_error err = DS_ERROR_INIT;

		if (reg_manifest_parse(&m, (const char *)data, size, types[t], "manifest", &err) == 0 &&
		    m.is_index) {
			for (size_t p = 0; p < sizeof(platforms) / sizeof(platforms[0]); p++) {
				size_t which = 0;
				if (reg_manifest_select(&m, platforms[p], &which, &err) == 0 &&
				    which >= m.n_entries)
					__builtin_trap();
			}
		}
		reg_manifest_release(&m);
	}
	return 0;
}
