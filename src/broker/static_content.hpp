// Documents the broker serves as they are: the topology page and the OpenAPI description.
#pragma once

#include <string_view>

namespace peat::broker {

extern const std::string_view kTopologyPage;
extern const std::string_view kOpenApiDocument;

}  // namespace peat::broker
