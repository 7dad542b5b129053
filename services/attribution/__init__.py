"""Attribution: campaigns, codes and links, clicks, orders, commissions and ROI."""
