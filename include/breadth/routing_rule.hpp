// Deprecated: BACO's per-token rules moved to breadth/baco_rules.hpp (BacoRule, BacoChoice) so that
// "router" names only the query router. This header forwards for one release.
#pragma once
#pragma message("breadth/routing_rule.hpp is deprecated: include breadth/baco_rules.hpp")
#include "breadth/baco_rules.hpp"
