"""Where the data comes from and what it must look like: sources, the contract,
the synthetic sample, contract drafting and the team's own fetch step."""
