// Writes a VPC-shaped policy (perf/vpc/vpc_policy.h) as YAML.
//   sgate_vpc_gen SHAPE OUT.yaml [--members-seed N] [--rules-seed N]
//                 [--groups N] [--interfaces N] [--rules-per-group N]
// SHAPE: vpc-15k, vpc-50k or vpc-small. Another --members-seed moves the
// same interfaces between groups and leaves every rule as it was: the
// reload of a VPC where only VMs came and went.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include "perf/vpc/vpc_policy.h"

int main(int argc, char** argv) {
  auto usage = [] {
    std::fprintf(stderr,
                 "usage: sgate_vpc_gen vpc-15k|vpc-50k|vpc-small OUT.yaml "
                 "[--members-seed N] [--rules-seed N] [--groups N] "
                 "[--interfaces N] [--rules-per-group N]\n");
    return 2;
  };
  if (argc < 3 || argc % 2 == 0) return usage();
  std::optional<sgate::perf::VpcShape> shape =
      sgate::perf::VpcShapeNamed(argv[1]);
  if (!shape) return usage();
  for (int i = 3; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    char* end = nullptr;
    unsigned long long value = std::strtoull(argv[i + 1], &end, 10);
    if (*end != '\0') return usage();
    if (flag == "--members-seed") {
      shape->members_seed = value;
    } else if (flag == "--rules-seed") {
      shape->rules_seed = value;
    } else if (flag == "--groups" && value >= 1) {
      shape->groups = static_cast<int>(value);
    } else if (flag == "--interfaces" && value >= 1) {
      // Two thirds of them local, as in the named shapes.
      shape->interfaces = static_cast<int>(value);
      shape->local_interfaces = static_cast<int>(value * 2 / 3);
    } else if (flag == "--rules-per-group" && value >= 1) {
      shape->rules_per_group = static_cast<int>(value);
    } else {
      return usage();
    }
  }
  std::ofstream out(argv[2]);
  out << sgate::perf::VpcPolicyYaml(sgate::perf::GenerateVpcPolicy(*shape));
  if (!out.flush()) {
    std::fprintf(stderr, "sgate_vpc_gen: cannot write %s\n", argv[2]);
    return 1;
  }
  return 0;
}
