# Browser assets, installed under $(pkgdatadir)/www (keep the list sorted).
nobase_dist_pkgdata_DATA += \
	www/index.html
