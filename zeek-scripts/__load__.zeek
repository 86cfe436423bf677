@load ./main
@load ./policy
@load ./prevalence
