#include "catalog_node.h"

#include <kestrel/plugin.hpp>

namespace kestrel {
namespace replicator_changelog {

void CatalogNode::repair(const std::vector<IdRange>& /*ranges*/,
                         const std::function<std::vector<RowImage>(const IdRange&)>& /*fetch*/, int64_t* written,
                         int64_t* deleted) {
  *written = *deleted = 0;
  throw Error(KESTREL_ERR_INVALID, "force-sync of node " + spec().name + ": it is held by the kestreld at " +
                                       spec().url + ": run it there");
}

}  // namespace replicator_changelog
}  // namespace kestrel
