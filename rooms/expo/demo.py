"""The demo expo ``expo:demo``: the 60-slot hall of ``EXPO_LAYOUT`` with six booths near the
entrance, so a fresh ``make run`` has something to visit. (Pictures are drawn by the server at
seed time and stored through the normal upload path.)"""

from __future__ import annotations

from rooms.expo.layout import DEMO_HALL
from rooms.expo.models import Booth, Expo, Product, Video

__all__ = ["DEMO_EXPO", "DEMO_BOOTHS"]

DEMO_EXPO = Expo(id="demo", name={"zh-CN": "城市云展会", "en": "City Cloud Expo"},
                 starts_at=None, ends_at=None, published=True, halls=(DEMO_HALL,))


def _t(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


def _booth(bid: str, slot: str, company: str, name: dict[str, str], category: str, color: str,
           keywords: tuple[str, ...], banner: dict[str, str], description: dict[str, str],
           products: tuple[Product, ...], videos: tuple[Video, ...] = ()) -> Booth:
    return Booth(id=bid, expo_id="demo", room_id="expo:demo", slot=slot, company=company,
                 name=name, description=description, category=category, keywords=keywords,
                 color=color, banner=banner, products=products, videos=videos)


DEMO_BOOTHS: tuple[Booth, ...] = (
    _booth("demo-yunfan", "b54", "云帆科技 Yunfan Tech", _t("云帆科技", "Yunfan Tech"), "tech",
           "#2f6fdf", ("云计算", "cloud", "AI", "政务"),
           _t("让政务服务上云", "Public services in the cloud"),
           _t("云帆科技为城市提供政务云平台和智能客服。欢迎来展位聊聊您的数字化需求。",
              "Yunfan Tech builds government cloud platforms and AI help desks for cities. "
              "Talk to us about your digital services."),
           (Product("cloudos", _t("城市云操作系统", "City Cloud OS"),
                    _t("一站式政务云平台，支持多部门数据共享。",
                       "One platform for every department, with shared data.")),
            Product("helpdesk", _t("智能客服", "AI help desk"),
                    _t("中英文双语的7×24小时在线咨询。",
                       "Bilingual Chinese/English answers around the clock."))),
           (Video(_t("产品演示", "Product demo"), "https://example.org/yunfan-demo"),)),
    _booth("demo-jiangnan", "b55", "江南茶社 Jiangnan Tea House", _t("江南茶社", "Jiangnan Tea"),
           "food", "#3f9a5b", ("茶", "tea", "龙井", "gift"),
           _t("一杯好茶，一座城", "A good cup of tea, a whole city"),
           _t("来自西湖的明前龙井和手工茶器，现场可预约品鉴会。",
              "Pre-Qingming Longjing from West Lake and handmade tea sets; book a tasting."),
           (Product("longjing", _t("明前龙井", "Pre-Qingming Longjing"),
                    _t("头采嫩芽，清香回甘。", "First-picked buds, fresh and sweet.")),)),
    _booth("demo-greencity", "b53", "绿城环保 Green City", _t("绿城环保", "Green City"),
           "environment", "#5cb85c", ("垃圾分类", "recycling", "solar", "新能源"),
           _t("零废弃城市", "Towards a zero-waste city"),
           _t("智能垃圾分类站与社区光伏，为街道提供整体方案。",
              "Smart recycling stations and community solar for neighbourhoods."),
           (Product("station", _t("智能分类站", "Smart recycling station"),
                    _t("自动称重积分，支持刷脸投放。", "Weighs and rewards every drop-off.")),)),
    _booth("demo-smartcare", "b56", "智慧医疗 SmartCare", _t("智慧医疗", "SmartCare Health"),
           "health", "#d9534f", ("医疗", "health", "telemedicine", "预约挂号"),
           _t("家门口的好医生", "A good doctor at your door"),
           _t("互联网医院和社区健康小屋，远程问诊与慢病管理。",
              "Online hospital and community health kiosks: remote consultations and "
              "chronic care."),
           (Product("kiosk", _t("健康小屋", "Health kiosk"),
                    _t("血压、血糖一站检测，数据直达家庭医生。",
                       "Blood pressure and sugar checks, sent to your family doctor.")),)),
    _booth("demo-culture", "b52", "城市文旅 City Culture & Tourism", _t("城市文旅", "City Culture"),
           "culture", "#8e6bbf", ("旅游", "tourism", "museum", "非遗"),
           _t("遇见城市之美", "Meet the city"),
           _t("博物馆数字展、非遗手作体验和城市漫步路线。",
              "Digital museum tours, intangible-heritage crafts and city walks."),
           (Product("walks", _t("城市漫步", "City walks"),
                    _t("12条主题路线，中英文讲解。", "12 themed routes, guided in Chinese and "
                                                  "English.")),)),
    _booth("demo-artisan", "b57", "匠心制造 Artisan Manufacturing", _t("匠心制造", "Artisan Works"),
           "manufacturing", "#f0ad4e", ("制造", "manufacturing", "robot", "机器人"),
           _t("小批量，高品质", "Small batches, high quality"),
           _t("协作机器人和柔性产线，适合中小企业的智能制造。",
              "Collaborative robots and flexible lines: smart manufacturing for small firms."),
           (Product("cobot", _t("协作机器人", "Collaborative robot"),
                    _t("5公斤负载，免编程示教。", "5 kg payload, teach by hand.")),)),
)
