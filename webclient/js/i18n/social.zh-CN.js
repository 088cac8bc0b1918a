// social UI texts (zh-CN). Every key must also exist in social.en.js.
export default {
};
